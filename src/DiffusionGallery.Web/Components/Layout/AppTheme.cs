using MudBlazor;

namespace DiffusionGallery.Web.Components.Layout;

public static class AppTheme
{
    public static readonly MudTheme Theme = new()
    {
        PaletteDark = new PaletteDark
        {
            Primary = "#8b7cf6",
            Secondary = "#f472b6",
            AppbarBackground = "#16161d",
            Background = "#0f0f14",
            Surface = "#1b1b24",
            DrawerBackground = "#16161d",
        },
        LayoutProperties = new LayoutProperties { DefaultBorderRadius = "8px" },
    };
}
