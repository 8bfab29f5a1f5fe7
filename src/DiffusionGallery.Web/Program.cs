var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    // appsettings.json and wwwroot/ come from the repository root, copied next to the app by the build.
    ContentRootPath = AppContext.BaseDirectory,
});

builder.AddAppOptions();
builder.AddDatabase();
builder.AddAccounts();
builder.AddInference();
builder.AddGeneration();
builder.AddUi();
builder.AddAdmin();

var app = builder.Build();
app.MapDiffusionGallery();
app.MapAdmin();
app.Run();
