using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;

namespace DiffusionGallery.Web.Accounts;

public sealed record CreateTokenRequest(string? Name);

public sealed record CreatedTokenDto(Guid Id, string Token, string Name, string Prefix, DateTimeOffset CreatedAt);

public sealed record TokenDto(Guid Id, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);

/// <summary>
/// Personal access tokens over REST, for scripts that set themselves up: create (signed in with the browser cookie
/// only: a token cannot mint tokens), list, revoke. The secret is returned once, at creation; only its hash is kept.
/// </summary>
public static class TokensApi
{
    public static IEndpointRouteBuilder MapTokensApi(this IEndpointRouteBuilder app)
    {
        var tokens = app.MapGroup("/api/tokens").RequireAuthorization(AuthPolicies.Api).WithTags("Tokens");
        tokens.MapPost("/", CreateAsync).WithName("CreateToken").WithSummary("Create a personal access token (browser sign-in only); the secret is shown once.");
        tokens.MapGet("/", ListAsync).WithName("ListTokens").WithSummary("Your tokens (never their secrets).");
        tokens.MapDelete("/{id:guid}", RevokeAsync).WithName("RevokeToken").WithSummary("Revoke one of your tokens.");
        return app;
    }

    private static string UserId(ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new UnauthorizedAccessException();

    /// <summary>Whether the caller signed in with the Identity cookie (not only with a token).</summary>
    internal static bool SignedInWithCookie(ClaimsPrincipal user) =>
        user.Identities.Any(i => i.IsAuthenticated && i.AuthenticationType == IdentityConstants.ApplicationScheme);

    private static async Task<Results<Created<CreatedTokenDto>, ProblemHttpResult, ValidationProblem>> CreateAsync(
        CreateTokenRequest request, ClaimsPrincipal user, PersonalAccessTokenService service, CancellationToken cancellationToken)
    {
        if (!SignedInWithCookie(user))
            return TypedResults.Problem("A personal access token cannot create tokens. Sign in to DiffusionGallery in the browser (cookie) to create one.",
                statusCode: StatusCodes.Status403Forbidden, title: "Sign-in required");
        try
        {
            var created = await service.CreateAsync(UserId(user), request.Name ?? "", cancellationToken);
            var t = created.Token;
            return TypedResults.Created($"/api/tokens/{t.Id}", new CreatedTokenDto(t.Id, created.Secret, t.Name, t.Prefix, t.CreatedAt));
        }
        catch (ArgumentException ex)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["name"] = [ex.Message.Split(" (Parameter")[0]] }, title: "Invalid token");
        }
    }

    private static async Task<Ok<List<TokenDto>>> ListAsync(ClaimsPrincipal user, PersonalAccessTokenService service, CancellationToken cancellationToken) =>
        TypedResults.Ok((await service.ListAsync(UserId(user), cancellationToken))
            .Select(t => new TokenDto(t.Id, t.Name, t.Prefix, t.CreatedAt, t.LastUsedAt, t.RevokedAt)).ToList());

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(Guid id, ClaimsPrincipal user, PersonalAccessTokenService service, CancellationToken cancellationToken) =>
        await service.RevokeAsync(UserId(user), id, cancellationToken) ? TypedResults.NoContent() : Errors.ApiProblems.NotFound($"You have no token {id}.");
}
