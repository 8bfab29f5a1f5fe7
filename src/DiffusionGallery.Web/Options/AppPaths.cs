namespace DiffusionGallery.Web.Options;

/// <summary>
/// Where relative paths in configuration (models, images, database) point: the repository root when the app runs
/// from a source checkout (so `dotnet run` uses models/ and data/ at the root), otherwise the app's own folder
/// (a published build, the Docker image).
/// </summary>
public static class AppPaths
{
    public static string BaseDirectory { get; } = FindBase();

    public static string Resolve(string path) => Path.GetFullPath(path, BaseDirectory);

    /// <summary>A SQLite connection string with its Data Source made absolute.</summary>
    public static string ResolveSqlite(string connectionString)
    {
        var builder = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(connectionString);
        if (!string.IsNullOrEmpty(builder.DataSource) && builder.DataSource != ":memory:" && builder.Mode != Microsoft.Data.Sqlite.SqliteOpenMode.Memory)
            builder.DataSource = Resolve(builder.DataSource);
        return builder.ToString();
    }

    private static string FindBase()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DiffusionGallery.sln")) && Directory.Exists(Path.Combine(dir.FullName, "src", "DiffusionGallery.Web")))
                return dir.FullName;
        }
        return AppContext.BaseDirectory;
    }
}
