using System.Diagnostics;
using DiffusionGallery.Web.Tests.Support;

namespace DiffusionGallery.EndToEnd.Tests;

/// <summary>The app as `dotnet run --project src/DiffusionGallery.Web` starts it (build output already there).</summary>
public sealed class DotnetRunApp : AppProcess
{
    /// <summary>The configuration this test assembly was built in; the script builds the whole solution in it.</summary>
    private static string Configuration => AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";

    protected override Task<ProcessStartInfo> CreateStartInfoAsync() => Task.FromResult(new ProcessStartInfo("dotnet",
        ["run", "--project", Path.Combine(RepoPaths.Root, "src", "DiffusionGallery.Web"), "-c", Configuration, "--no-build", "--no-launch-profile"]));
}

public sealed class DotnetRunTests(DotnetRunApp app) : IClassFixture<DotnetRunApp>
{
    [Fact]
    public async Task DotnetRun_UsesRootAppsettingsAndWwwroot_AndPrintsTheUrl()
    {
        using var http = new HttpClient { BaseAddress = app.BaseUrl };
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "wwwroot", "app.css")), await http.GetStringAsync("app.css"));
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(RepoPaths.Root, "wwwroot", "favicon.png")), await http.GetByteArrayAsync("favicon.png"));
        var home = await http.GetStringAsync("");
        Assert.Contains("DiffusionGallery", home);
        Assert.Contains("_content/MudBlazor/MudBlazor.min", home);
        Assert.Contains("Model tiny-shapes loaded", app.Output);
        Assert.Contains($"DiffusionGallery is ready: open {app.BaseUrl.ToString().TrimEnd('/')}", app.Output);
    }
}
