using System.Net;
using DiffusionGallery.Web.Tests.Integration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionGallery.Web.Tests.Admin;

public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task Metrics_OffByDefault_404()
    {
        await using var app = new GalleryAppFactory();
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain("dg_queue_length", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("203.0.113.9", false)]
    public async Task Metrics_Enabled_ServesPrometheusTextOnlyToAllowedNetworks(string remote, bool served)
    {
        await using var app = new GalleryAppFactory();
        app.Settings["Metrics:PrometheusEnabled"] = "true";
        await using var seenFrom = app.WithWebHostBuilder(builder =>
            builder.ConfigureTestServices(services => services.AddSingleton<IStartupFilter>(new RemoteAddressFilter(IPAddress.Parse(remote)))));
        using var client = seenFrom.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var response = await client.GetAsync("/metrics");
        var body = await response.Content.ReadAsStringAsync();
        if (served)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("dg_queue_length", body);
            Assert.Contains("dg_gpu_busy_share", body);
        }
        else
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.DoesNotContain("dg_queue_length", body);
        }
    }

    /// <summary>Gives requests a client address (the test server has none of its own).</summary>
    private sealed class RemoteAddressFilter(IPAddress remote) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                context.Connection.RemoteIpAddress = remote;
                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
