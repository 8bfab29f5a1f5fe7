using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace DiffusionGallery.Web.Data;

/// <summary>Stores a <see cref="DateTimeOffset"/> as UTC ticks (sortable in SQLite).</summary>
public sealed class DateTimeOffsetTicksConverter() : ValueConverter<DateTimeOffset, long>(
    value => value.UtcTicks,
    ticks => new DateTimeOffset(ticks, TimeSpan.Zero));
