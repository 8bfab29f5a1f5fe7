using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace DiffusionGallery.Web.Accounts.RateLimiting;

/// <summary>ASP.NET Core's rate limiter on account attempts: one fixed window per client address and one per account name.</summary>
public static class AccountRateLimiting
{
    public static void Configure(RateLimiterOptions limiter, AccountRateLimitOptions limits)
    {
        limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        limiter.GlobalLimiter = PartitionedRateLimiter.CreateChained(
            PartitionedRateLimiter.Create<HttpContext, string>(context => AccountAttempt.Get(context) is { } attempt
                ? RateLimitPartition.GetFixedWindowLimiter("address:" + attempt.ClientAddress, _ => Window(limits.PerAddressPermitLimit, limits))
                : RateLimitPartition.GetNoLimiter("")),
            PartitionedRateLimiter.Create<HttpContext, string>(context => AccountAttempt.Get(context) is { AccountName: { } account }
                ? RateLimitPartition.GetFixedWindowLimiter("account:" + account, _ => Window(limits.PerAccountPermitLimit, limits))
                : RateLimitPartition.GetNoLimiter("")));
        limiter.OnRejected = async (context, cancellationToken) =>
        {
            var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : limits.Window;
            var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
            var http = context.HttpContext;
            http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            http.Response.ContentType = "text/html; charset=utf-8";
            http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AccountRateLimiting))
                .LogWarning("Throttled {Method} {Path} from {Address}", http.Request.Method, http.Request.Path, AccountAttempt.Get(http)?.ClientAddress);
            await http.Response.WriteAsync($"""
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8"><title>Too many attempts · DiffusionGallery</title></head>
                <body><h1>Too many attempts</h1>
                <p>Too many sign-in or account requests came from here or for this account. Try again in {seconds} seconds.</p>
                <p><a href="/Account/Login">Back to sign in</a></p></body></html>
                """, cancellationToken);
        };
    }

    private static FixedWindowRateLimiterOptions Window(int permits, AccountRateLimitOptions limits) => new()
    {
        PermitLimit = permits,
        Window = limits.Window,
        QueueLimit = 0,
        AutoReplenishment = true,
    };
}
