using System.Security.Claims;
using DiffusionGallery.Web.Accounts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DiffusionGallery.Web.Quotas;

/// <summary><c>GET /api/me/quota</c>: the caller's limits, what is left today and when it resets.</summary>
public static class QuotaApi
{
    public static IEndpointRouteBuilder MapQuotaApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/me/quota", GetAsync).RequireAuthorization(AuthPolicies.Api).WithTags("DiffusionGallery")
            .WithName("GetMyQuota").WithSummary("Your limits, what is left today and when it resets (null = unlimited).");
        return app;
    }

    private static async Task<Results<Ok<QuotaStatus>, UnauthorizedHttpResult>> GetAsync(ClaimsPrincipal user, QuotaService quotas, CancellationToken cancellationToken) =>
        user.FindFirstValue(ClaimTypes.NameIdentifier) is { } id ? TypedResults.Ok(await quotas.GetStatusAsync(id, cancellationToken)) : TypedResults.Unauthorized();
}
