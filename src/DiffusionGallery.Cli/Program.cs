Console.WriteLine("DiffusionGallery CLI");
