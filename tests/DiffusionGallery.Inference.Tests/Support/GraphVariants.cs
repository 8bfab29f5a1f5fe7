using System.Diagnostics;

namespace DiffusionGallery.Inference.Tests.Support;

/// <summary>
/// Copies of the bundled model whose graphs use other I/O dtypes or ranks (Fixtures/make_variant_model.py: fp16 tensors
/// with int64 ids/timesteps, or a scalar timestep); the test is skipped where Python or its onnx package is missing.
/// </summary>
internal static class GraphVariants
{
    private const string Python = "/usr/bin/python3";

    /// <summary>Writes <paramref name="variant"/> ("fp16-int64" or "scalar-timestep") under <paramref name="root"/>; returns its folder.</summary>
    public static string Make(string root, string variant)
    {
        var source = TestPaths.RequireTinyModel();
        Assert.SkipUnless(File.Exists(Python), $"{Python} is needed to rewrite the graphs");
        var target = Path.Combine(root, variant);
        var start = new ProcessStartInfo(Python) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { TestPaths.Fixture("make_variant_model.py"), source, target, variant })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.SkipWhen(error.Contains("No module named 'onnx'"), "the Python onnx package is needed to rewrite the graphs");
        Assert.True(process.ExitCode == 0, error);
        return target;
    }
}
