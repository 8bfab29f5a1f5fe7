// Small helpers for DiffusionGallery (no framework).
window.diffusionGallery = {
    copy: (text) => navigator.clipboard.writeText(text),
    // Scrolls an element into view when it starts below the middle of the screen (a stacked phone layout).
    revealBelow: (id) => {
        const element = document.getElementById(id);
        if (element && element.getBoundingClientRect().top > window.innerHeight / 2) {
            // Leave the prompt box (on a phone this closes the keyboard): a focused text box that re-renders pulls the
            // page back to itself, which stopped a smooth scroll part of the way.
            if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
            element.scrollIntoView({ block: 'start' });
        }
    },
};
