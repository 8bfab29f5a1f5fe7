namespace DiffusionGallery.Web.Accounts.RateLimiting;

/// <summary>
/// Recognises requests that are attempts on an account (a form POST to sign-in, registration, forgot/reset password,
/// resend confirmation, two-factor sign-in; a GET of an e-mail confirmation link) and reads which account they name.
/// </summary>
public static class AccountAttempt
{
    private static readonly object ItemKey = new();

    private static readonly string[] FormPaths =
    [
        "/Account/Login", "/Account/Register", "/Account/ForgotPassword", "/Account/ResetPassword",
        "/Account/ResendEmailConfirmation", "/Account/LoginWith2fa", "/Account/LoginWithRecoveryCode",
        "/Account/PasskeyRequestOptions",
    ];

    private static readonly string[] LinkPaths = ["/Account/ConfirmEmail", "/Account/ConfirmEmailChange"];

    /// <summary>What the rate limiter partitions by; set by <see cref="ReadAsync"/>.</summary>
    public sealed record Info(string ClientAddress, string? AccountName);

    public static Info? Get(HttpContext context) => context.Items.TryGetValue(ItemKey, out var value) ? value as Info : null;

    /// <summary>
    /// Runs before the rate limiter: reads the posted form asynchronously (it stays buffered for the page) so that the
    /// limiter's partitioning, which is synchronous, only looks at what is stored here.
    /// </summary>
    public static async Task ReadAsync(HttpContext context)
    {
        var path = context.Request.Path;
        string? account = null;
        if (HttpMethods.IsPost(context.Request.Method) && FormPaths.Any(p => path.Equals(p, StringComparison.OrdinalIgnoreCase)))
        {
            if (context.Request.HasFormContentType)
            {
                var form = await context.Request.ReadFormAsync(context.RequestAborted);
                account = form["Input.Email"].ToString();
            }
            if (string.IsNullOrWhiteSpace(account)) account = context.Request.Query["username"].ToString();
        }
        else if (HttpMethods.IsGet(context.Request.Method) && LinkPaths.Any(p => path.Equals(p, StringComparison.OrdinalIgnoreCase)))
        {
            account = context.Request.Query["userId"].ToString();
        }
        else
        {
            return;
        }
        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        account = string.IsNullOrWhiteSpace(account) ? null : account.Trim().ToUpperInvariant();
        context.Items[ItemKey] = new Info(address, account is { Length: > 256 } ? account[..256] : account);
    }
}
