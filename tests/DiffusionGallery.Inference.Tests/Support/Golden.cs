using System.Text.Json;

namespace DiffusionGallery.Inference.Tests.Support;

internal static class Golden
{
    public static JsonDocument Load(string name) => JsonDocument.Parse(File.ReadAllText(TestPaths.RequireGolden(name)));

    public static float[] Floats(JsonElement array) => array.EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();

    public static double[] Doubles(JsonElement array) => array.EnumerateArray().Select(e => e.GetDouble()).ToArray();

    /// <summary>‖a − b‖ / ‖b‖.</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double diff = 0, norm = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            diff += (actual[i] - (double)expected[i]) * (actual[i] - (double)expected[i]);
            norm += expected[i] * (double)expected[i];
        }

        return Math.Sqrt(diff / norm);
    }
}
