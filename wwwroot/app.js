// Small helpers for DiffusionGallery (no framework).
window.diffusionGallery = {
    copy: (text) => navigator.clipboard.writeText(text),
    // Scrolls an element into view when it starts below the middle of the screen (a stacked phone layout).
    revealBelow: (id) => {
        const element = document.getElementById(id);
        if (element && element.getBoundingClientRect().top > window.innerHeight / 2) {
            element.scrollIntoView({ behavior: 'smooth', block: 'start' });
        }
    },
};
