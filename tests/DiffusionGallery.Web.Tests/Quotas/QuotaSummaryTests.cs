using System.Security.Claims;
using Bunit;
using Bunit.TestDoubles;
using DiffusionGallery.Web.Components.Shared;
using DiffusionGallery.Web.Options;
using DiffusionGallery.Web.Quotas;
using DiffusionGallery.Web.Tests.Components;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionGallery.Web.Tests.Quotas;

public sealed class QuotaSummaryTests : MudTestContext, IDisposable
{
    private readonly QueueHarness _h = new(quotas: new QuotaOptions { ImagesPerDay = 3 });
    private BunitAuthorizationContext? _auth;

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.AddSingleton(_h.Quotas);
        services.AddSingleton(_h.Queue);
        services.AddSingleton<IQuotaPolicyProvider>(_h.Policy);
        _auth = AddAuthorization();
    }

    [Fact]
    public async Task ShowsWhatIsLeftAndTheResetTime_AndTheQueuePreview()
    {
        var userId = await _h.Database.AddUserAsync("me@x.test");
        _auth!.SetAuthorized("me@x.test");
        _auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, userId));
        await _h.SubmitAsync(userId, QueueHarness.Settings(batch: 2), null, Xunit.TestContext.Current.CancellationToken);

        var cut = Render<QuotaSummary>(p => p.Add(c => c.Settings, QueueHarness.Settings()));
        cut.WaitForAssertion(() =>
        {
            Assert.Contains("1 of 3 images left today", cut.Find("[data-testid=quota-left]").TextContent);
            Assert.Contains("resets at 00:00 UTC", cut.Find("[data-testid=quota-left]").TextContent);
            Assert.Contains("a new job would be number 2", cut.Find("[data-testid=queue-preview]").TextContent);
        });
    }

    public new void Dispose()
    {
        base.Dispose();
        _h.Dispose();
    }
}
