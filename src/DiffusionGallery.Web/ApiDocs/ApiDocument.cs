using DiffusionGallery.Web.Accounts;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace DiffusionGallery.Web.ApiDocs;

/// <summary>Title, description and the two ways to authenticate (a personal access token or the sign-in cookie).</summary>
public sealed class ApiDocument(IOptionsMonitor<CookieAuthenticationOptions> cookies) : IOpenApiDocumentTransformer
{
    public const string BearerScheme = "bearer";
    public const string CookieScheme = "cookie";

    /// <summary>Only the REST API and the image files; Identity's form endpoints are the site's own business.</summary>
    public static bool IsPublic(string? relativePath) =>
        relativePath is not null && (relativePath.StartsWith("api/", StringComparison.Ordinal) || relativePath.StartsWith("images/", StringComparison.Ordinal));

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "DiffusionGallery API";
        document.Info.Description =
            "Queue text-to-image jobs, follow them and fetch your images. Authenticate with a personal access token " +
            "(create one at /account/tokens) as `Authorization: Bearer dgp_…`; the browser's sign-in cookie works too.";
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "dgp_ personal access token",
            Description = $"A personal access token ({PersonalAccessTokenService.TokenPrefix}…) from /account/tokens.",
        };
        document.Components.SecuritySchemes[CookieScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Cookie,
            Name = cookies.Get(IdentityConstants.ApplicationScheme).Cookie.Name ?? ".AspNetCore.Identity.Application",
            Description = "The sign-in cookie of the web app (browsers).",
        };
        document.Security =
        [
            new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] },
            new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(CookieScheme, document)] = [] },
        ];
        return Task.CompletedTask;
    }
}
