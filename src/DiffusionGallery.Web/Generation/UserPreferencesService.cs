using System.Text.Json;
using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Generation;

/// <summary>Remembers the generate form's settings per user.</summary>
public sealed class UserPreferencesService(IDbContextFactory<ApplicationDbContext> dbFactory, TimeProvider time)
{
    public async Task<GenerationSettings?> LoadAsync(string userId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var json = await db.UserPreferences.Where(p => p.UserId == userId).Select(p => p.GenerateSettingsJson).SingleOrDefaultAsync(cancellationToken);
        if (json is null) return null;
        try
        {
            return JsonSerializer.Deserialize<GenerationSettings>(json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public async Task SaveAsync(string userId, GenerationSettings settings, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var json = JsonSerializer.Serialize(settings);
        var row = await db.UserPreferences.SingleOrDefaultAsync(p => p.UserId == userId, cancellationToken);
        if (row is null) db.UserPreferences.Add(new UserPreference { UserId = userId, GenerateSettingsJson = json, UpdatedAt = time.GetUtcNow() });
        else { row.GenerateSettingsJson = json; row.UpdatedAt = time.GetUtcNow(); }
        await db.SaveChangesAsync(cancellationToken);
    }
}
