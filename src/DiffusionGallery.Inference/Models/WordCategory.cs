namespace DiffusionGallery.Inference.Models;

/// <summary>What a prompt word names, for the vocabulary hints: a model's content words come in these kinds.</summary>
public enum WordCategory { Other, Colour, Kind, Size, Position, Background, Count, Relation }
