using DiffusionGallery.Inference.Abstractions;

namespace DiffusionGallery.Inference.Scheduling;

/// <summary>
/// Linear multistep (order 4): integrates the Lagrange interpolant of the last derivatives between σᵢ and σᵢ₊₁.
/// The integrand is a polynomial of degree ≤ 3, so 2-point Gauss–Legendre quadrature is exact.
/// </summary>
public sealed class LmsSampler(NoiseSchedule schedule, int steps, bool karras) : SigmaSampler(schedule, steps, karras)
{
    private const int MaxOrder = 4;
    private readonly List<float[]> _derivatives = new(MaxOrder);
    private readonly Stack<float[]> _spare = new();

    public override SamplerKind Kind => SamplerKind.Lms;

    public override bool NeedsNoise(int step) => false;

    public override void Step(int step, ReadOnlySpan<float> modelOutput, Span<float> sample, ReadOnlySpan<float> noise, Span<float> denoised)
    {
        var sigma = Sigmas[step];
        PredictOriginalSigma(sigma, modelOutput, sample, denoised);
        var derivative = _spare.Count > 0 ? _spare.Pop() : new float[sample.Length];
        for (var i = 0; i < sample.Length; i++)
            derivative[i] = (float)((sample[i] - (double)denoised[i]) / sigma);
        _derivatives.Add(derivative);
        if (_derivatives.Count > MaxOrder)
        {
            _spare.Push(_derivatives[0]);
            _derivatives.RemoveAt(0);
        }

        var order = _derivatives.Count;
        Span<double> coefficients = stackalloc double[MaxOrder];
        for (var j = 0; j < order; j++)
            coefficients[j] = Coefficient(order, step, j);
        for (var i = 0; i < sample.Length; i++)
        {
            double sum = 0;
            for (var j = 0; j < order; j++)
                sum += coefficients[j] * _derivatives[order - 1 - j][i];
            sample[i] = (float)(sample[i] + sum);
        }
    }

    /// <summary>∫_{σ_t}^{σ_{t+1}} ∏_{k≠j} (τ − σ_{t−k}) / (σ_{t−j} − σ_{t−k}) dτ.</summary>
    internal double Coefficient(int order, int t, int currentOrder)
    {
        double Basis(double tau)
        {
            var product = 1.0;
            for (var k = 0; k < order; k++)
            {
                if (k == currentOrder)
                    continue;
                product *= (tau - Sigmas[t - k]) / (Sigmas[t - currentOrder] - Sigmas[t - k]);
            }

            return product;
        }

        double a = Sigmas[t], b = Sigmas[t + 1];
        var half = (b - a) / 2;
        var mid = (a + b) / 2;
        var offset = half / Math.Sqrt(3);
        return half * (Basis(mid - offset) + Basis(mid + offset));
    }
}
