using System.ComponentModel.DataAnnotations;
using System.Net;

namespace DiffusionGallery.Web.Admin;

/// <summary>
/// The <c>Metrics</c> section. The Prometheus scrape endpoint is off unless <see cref="PrometheusEnabled"/>, and
/// then answers only clients in <see cref="AllowedNetworks"/> (loopback by default); everyone else gets 404.
/// </summary>
public sealed class MetricsOptions : IValidatableObject
{
    public const string SectionName = "Metrics";

    public bool PrometheusEnabled { get; set; }

    [Required, RegularExpression("^/[A-Za-z0-9/_-]*$")] public string Path { get; set; } = "/metrics";

    /// <summary>CIDR ranges allowed to scrape, e.g. <c>10.0.0.0/8</c>.</summary>
    public string[] AllowedNetworks { get; set; } = ["127.0.0.0/8", "::1/128"];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var network in AllowedNetworks)
        {
            if (!IPNetwork.TryParse(network, out _))
                yield return new ValidationResult($"Metrics:AllowedNetworks: '{network}' is not a CIDR range like 10.0.0.0/8.", [nameof(AllowedNetworks)]);
        }
    }

    public bool Allows(IPAddress? address)
    {
        if (address is null) return false;
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        return AllowedNetworks.Select(IPNetwork.Parse).Any(n => n.Contains(address));
    }
}
