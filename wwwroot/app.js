// Small helpers for DiffusionGallery (no framework).
window.diffusionGallery = {
    copy: (text) => navigator.clipboard.writeText(text),
};
