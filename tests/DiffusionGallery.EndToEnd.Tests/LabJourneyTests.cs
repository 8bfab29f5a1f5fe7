using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.Playwright;

namespace DiffusionGallery.EndToEnd.Tests;

/// <summary>Image guidance and the Diffusion Lab in Chromium against the published app.</summary>
public sealed class LabJourneyTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private const string Password = "a long enough passphrase";

    private static string? ScreenshotDir => Environment.GetEnvironmentVariable("DG_SCREENSHOTS_DIR") is { Length: > 0 } dir ? dir : null;

    private static async Task WaitForCircuitAsync(IPage page) =>
        await page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached });

    [Fact]
    public async Task UploadInTheLab_ForwardFramesAppear_ScrubbingTheSliderRenoises()
    {
        var page = await fixture.NewPageAsync();
        await RegisterAsync(page);
        var picture = Path.Combine(fixture.App.DataDir, "circle.png");
        await File.WriteAllBytesAsync(picture, CirclePng(160, 120));

        await page.GotoAsync("lab");
        await WaitForCircuitAsync(page);
        await ChooseFileAsync(page, "reference-file", picture);

        var frames = page.GetByTestId("lab-forward-frame");
        await Assertions.Expect(frames).ToHaveCountAsync(7, new() { Timeout = 60_000 });
        Assert.Equal("0", await frames.First.GetAttributeAsync("data-t"));
        Assert.Contains("√ᾱ", await frames.Nth(3).InnerTextAsync());
        await Assertions.Expect(page.GetByTestId("reference-upload")).ToHaveCountAsync(1);

        var scrubbed = page.GetByTestId("lab-scrub-frame");
        Assert.Equal("250", await scrubbed.GetAttributeAsync("data-t"));
        var before = await scrubbed.Locator("img").GetAttributeAsync("src");
        await page.GetByTestId("lab-forward").Locator("input[type=range]").FillAsync("900");
        await Assertions.Expect(scrubbed).ToHaveAttributeAsync("data-t", "900");
        Assert.NotEqual(before, await scrubbed.Locator("img").GetAttributeAsync("src"));
        await Assertions.Expect(page.GetByTestId("lab-scrub-t")).ToHaveTextAsync("900");
        await page.GetByTestId("lab-alpha-chart").Locator("svg").First.WaitForAsync();
        if (ScreenshotDir is { } dir)
            await page.GetByTestId("lab-forward").ScreenshotAsync(new() { Path = Path.Combine(dir, "lab.png") });

        // The sampler grid, kept small (2 samplers x 2 step counts): cells fill in with their times.
        foreach (var chip in new[] { "Euler", "Lms", "Ddim", "Ddpm", "steps-20", "steps-40" })
            await page.GetByTestId($"lab-chip-{chip}").ClickAsync();
        await page.GetByTestId("lab-samplers-run").ClickAsync();
        var cells = page.GetByTestId("lab-samplers-grid").GetByTestId("lab-cell");
        await Assertions.Expect(cells).ToHaveCountAsync(4);
        await Assertions.Expect(page.GetByTestId("lab-samplers-grid").Locator("[data-testid=lab-cell][data-state=Succeeded]")).ToHaveCountAsync(4, new() { Timeout = 90_000 });
        Assert.Equal(["DpmPlusPlus2M|5", "DpmPlusPlus2M|10", "EulerAncestral|5", "EulerAncestral|10"],
            await cells.EvaluateAllAsync<string[]>("cells => cells.map(c => c.getAttribute('data-key'))"));
        foreach (var time in await page.GetByTestId("lab-samplers-grid").GetByTestId("lab-cell-time").AllInnerTextsAsync())
            Assert.Matches(@"^\d+\.\d\d s$", time);
        if (ScreenshotDir is { } gridDir)
        {
            await page.WaitForFunctionAsync("() => [...document.querySelectorAll('[data-testid=lab-samplers-grid] img')].every(i => i.complete && i.naturalWidth > 0)");
            await page.GetByTestId("lab-samplers").ScreenshotAsync(new() { Path = Path.Combine(gridDir, "lab-samplers.png") });
        }
    }

    [Fact]
    public async Task GenerateFromAnUploadedImage_AtTwoStrengths_EachRecordsItsDenoisingStrength()
    {
        var page = await fixture.NewPageAsync();
        await RegisterAsync(page);
        var picture = Path.Combine(fixture.App.DataDir, "reference.png");
        await File.WriteAllBytesAsync(picture, CirclePng(200, 200));

        await page.GotoAsync("generate");
        await WaitForCircuitAsync(page);
        await page.Locator("#prompt").FillAsync("a red circle on a blue background");
        var steps = page.GetByLabel("Steps");
        await steps.FillAsync("10");
        await steps.PressAsync("Tab");
        await page.GetByTestId("reference-panel").GetByText("Reference image").First.ClickAsync();
        await ChooseFileAsync(page, "reference-file", picture);
        await Assertions.Expect(page.GetByTestId("reference-chosen")).ToContainTextAsync("upload");

        var seen = new List<string>();
        foreach (var strength in new[] { "0.2", "0.9" })
        {
            await page.GetByTestId("reference-panel").Locator("input[type=range]").FillAsync(strength);
            await Assertions.Expect(page.GetByTestId("reference-strength")).ToHaveTextAsync(strength + "0");
            await page.Locator("#prompt").PressAsync("Control+Enter");
            var card = page.Locator("[data-testid=results] [data-testid=image-card]").First;
            await Assertions.Expect(card).Not.ToHaveAttributeAsync("data-image-id", seen.LastOrDefault() ?? "-", new() { Timeout = 60_000 });
            var imageId = (await card.GetAttributeAsync("data-image-id"))!;
            seen.Add(imageId);
            var png = await (await page.Context.APIRequest.GetAsync($"images/{imageId}")).BodyAsync();
            var parameters = PngChunks.ReadText(png)["parameters"];
            Assert.Contains($"Denoising strength: {strength}", parameters);
        }
        Assert.Equal(2, seen.Distinct().Count());
        if (ScreenshotDir is { } dir)
        {
            await page.GetByTestId("reference-panel").ScrollIntoViewIfNeededAsync();
            await page.ScreenshotAsync(new() { Path = Path.Combine(dir, "generate-reference.png") });
        }
    }

    /// <summary>
    /// Sets a Blazor InputFile's file once the component listens: its script attaches the change listener after the
    /// component's first render reaches the browser, so a file set before that (a loaded machine, an early test step)
    /// was silently lost and the test waited for frames that never came.
    /// </summary>
    private static async Task ChooseFileAsync(IPage page, string testId, string path)
    {
        var input = page.GetByTestId(testId);
        await page.WaitForFunctionAsync("el => el._blazorInputFileNextFileId !== undefined", await input.ElementHandleAsync(),
            new() { Timeout = 30_000 });
        await input.SetInputFilesAsync(path);
    }

    private static async Task RegisterAsync(IPage page)
    {
        await page.GotoAsync("Account/Register");
        await page.FillAsync("#Input\\.Email", $"lab-{Guid.NewGuid():N}@example.test");
        await page.FillAsync("#Input\\.Password", Password);
        await page.FillAsync("#Input\\.ConfirmPassword", Password);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => !url.Contains("Register"));
    }

    /// <summary>A red disc on a blue background (the bundled model's world), as an 8-bit RGB PNG written by hand.</summary>
    internal static byte[] CirclePng(int width, int height)
    {
        var raw = new byte[height * (1 + 3 * width)];
        var (cx, cy, r) = (width / 2.0, height / 2.0, Math.Min(width, height) / 3.5);
        for (var y = 0; y < height; y++)
        {
            var row = y * (1 + 3 * width);
            for (var x = 0; x < width; x++)
            {
                var inside = (x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r;
                raw[row + 1 + 3 * x] = (byte)(inside ? 220 : 30);
                raw[row + 2 + 3 * x] = (byte)(inside ? 30 : 60);
                raw[row + 3 + 3 * x] = (byte)(inside ? 40 : 200);
            }
        }
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), (uint)height);
        ihdr[8] = 8;
        ihdr[9] = 2;
        Chunk(png, "IHDR", ihdr);
        using (var zipped = new MemoryStream())
        {
            using (var z = new ZLibStream(zipped, CompressionLevel.Fastest, leaveOpen: true)) z.Write(raw);
            Chunk(png, "IDAT", zipped.ToArray());
        }
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream output, string type, byte[] data)
    {
        var head = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(head, (uint)data.Length);
        Encoding.ASCII.GetBytes(type, head.AsSpan(4));
        output.Write(head);
        output.Write(data);
        var crc = 0xFFFFFFFFu;
        foreach (var b in head.AsSpan(4).ToArray().Concat(data))
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        var tail = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(tail, ~crc);
        output.Write(tail);
    }
}
