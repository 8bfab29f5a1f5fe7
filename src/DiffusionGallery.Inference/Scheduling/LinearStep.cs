namespace DiffusionGallery.Inference.Scheduling;

/// <summary>
/// One sampler step written as a linear update of each latent value, for samplers whose step is one
/// (<see cref="Sampler.TakeLinearStep"/>): with x the latent, m the (guided) model output and P the previous step's
/// denoised prediction, <c>D = CSkip·x + COut·m</c> and <c>x' = BX·x + BD·D + BP·P</c>. The engine runs it for every
/// row at once beside the UNet (latents kept on the device), with the host computing only these five numbers a step.
/// </summary>
public readonly record struct LinearStep(double CSkip, double COut, double BX, double BD, double BP)
{
    /// <summary>D and x' for one value, in the order the step graph computes them (for tests and the host's own check).</summary>
    public (float Denoised, float Next) Apply(float x, float modelOutput, float previous)
    {
        var denoised = (float)(CSkip * x + COut * modelOutput);
        return (denoised, (float)(BX * x + BD * denoised + BP * previous));
    }
}
