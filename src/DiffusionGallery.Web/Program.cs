var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    // appsettings.json and wwwroot/ come from the repository root, copied next to the app by the build.
    ContentRootPath = AppContext.BaseDirectory,
});

builder.AddAppOptions();
builder.AddDatabase();
builder.AddErrors();
builder.AddAccounts();
builder.AddInference();
builder.AddQuotas();
builder.AddGallery();
builder.AddGeneration();
builder.AddUi();
builder.AddAdmin();

var app = builder.Build();
app.MapDiffusionGallery();
app.MapAccounts();
app.MapGallery();
app.MapGeneration();
app.MapAdmin();
app.Run();
