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
builder.AddAccountSecurity();
builder.AddInference();
builder.AddQuotas();
builder.AddGallery();
builder.AddGeneration();
builder.AddSharing();
builder.AddUploads();
builder.AddLab();
builder.AddUi();
builder.AddA1111Api();
builder.AddApiDocs();
builder.AddAdmin();

var app = builder.Build();
app.UseWebSecurity();
app.UseAccountSecurity();
app.MapDiffusionGallery();
app.MapAccounts();
app.MapGallery();
app.MapGeneration();
app.MapA1111Api();
app.MapApiDocs();
app.MapSharing();
app.MapUploads();
app.MapLab();
app.MapAdmin();
app.Run();
