using System.ComponentModel.DataAnnotations;

namespace DiffusionGallery.Web.Options;

/// <summary>The <c>Database</c> section.</summary>
public sealed class DatabaseOptions
{
    public const string SectionName = "Database";

    [Required, RegularExpression("^(Sqlite)$", ErrorMessage = "Only the Sqlite provider is built in.")]
    public string Provider { get; set; } = "Sqlite";

    [Required] public string ConnectionString { get; set; } = "Data Source=data/diffusiongallery.db";

    [Range(100, 120_000)] public int BusyTimeoutMs { get; set; } = 5000;
}
