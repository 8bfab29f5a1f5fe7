using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Identity;
using DiffusionGallery.Web.Data;

namespace DiffusionGallery.Web.Components.Account;

internal sealed class IdentityRedirectManager(NavigationManager navigationManager)
{
    public const string StatusCookieName = "Identity.StatusMessage";

    private static readonly CookieBuilder StatusCookieBuilder = new()
    {
        SameSite = SameSiteMode.Strict,
        HttpOnly = true,
        IsEssential = true,
        MaxAge = TimeSpan.FromSeconds(5),
    };

    public void RedirectTo(string? uri)
    {
        navigationManager.NavigateTo(ToLocal(uri));
    }

    /// <summary>
    /// Prevents open redirects: a URL of this site (relative, or absolute under the base address) stays; anything else
    /// (another host, "//host", "/\\host", a scheme) becomes the home page.
    /// </summary>
    internal string ToLocal(string? uri)
    {
        if (string.IsNullOrWhiteSpace(uri)) return "";
        // Browsers drop tabs and newlines inside URLs ("/\t/host" is "//host"), so such input is never local.
        if (uri.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)) || uri.StartsWith('\\')) return "";
        if (uri.StartsWith('/')) return uri.StartsWith("//", StringComparison.Ordinal) || uri.StartsWith("/\\", StringComparison.Ordinal) ? "" : uri;
        if (Uri.TryCreate(uri, UriKind.Absolute, out var absolute))
        {
            return absolute.Scheme is "http" or "https" && absolute.AbsoluteUri.StartsWith(navigationManager.BaseUri, StringComparison.OrdinalIgnoreCase)
                ? navigationManager.ToBaseRelativePath(absolute.AbsoluteUri)
                : "";
        }
        // A relative path ("gallery?page=2"); anything with a scheme-like prefix ("javascript:") is not.
        var schemeEnd = uri.IndexOfAny([':', '/', '?', '#']);
        return schemeEnd >= 0 && uri[schemeEnd] == ':' ? "" : uri;
    }

    public void RedirectTo(string uri, Dictionary<string, object?> queryParameters)
    {
        var uriWithoutQuery = navigationManager.ToAbsoluteUri(uri).GetLeftPart(UriPartial.Path);
        var newUri = navigationManager.GetUriWithQueryParameters(uriWithoutQuery, queryParameters);
        RedirectTo(newUri);
    }

    public void RedirectToWithStatus(string uri, string message, HttpContext context)
    {
        context.Response.Cookies.Append(StatusCookieName, message, StatusCookieBuilder.Build(context));
        RedirectTo(uri);
    }

    private string CurrentPath => navigationManager.ToAbsoluteUri(navigationManager.Uri).GetLeftPart(UriPartial.Path);

    public void RedirectToCurrentPage() => RedirectTo(CurrentPath);

    public void RedirectToCurrentPageWithStatus(string message, HttpContext context)
        => RedirectToWithStatus(CurrentPath, message, context);

    public void RedirectToInvalidUser(UserManager<ApplicationUser> userManager, HttpContext context)
        => RedirectToWithStatus("Account/InvalidUser", $"Error: Unable to load user with ID '{userManager.GetUserId(context.User)}'.", context);
}
