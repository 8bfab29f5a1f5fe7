namespace DiffusionGallery.Web.Tests.Support;

internal static class RepoPaths
{
    /// <summary>The repository root (the folder holding DiffusionGallery.sln).</summary>
    public static string Root { get; } = FindRoot();

    public static string Models => Path.Combine(Root, "models");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DiffusionGallery.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("Repository root (DiffusionGallery.sln) not found above " + AppContext.BaseDirectory);
    }
}
