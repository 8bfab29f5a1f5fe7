// Infinite scroll for Explore: when the "Load more" row comes near the viewport, ask the page for the next page.
export function observeSentinel(dotNet) {
    let busy = false;
    const io = new IntersectionObserver(async entries => {
        if (busy || !entries.some(e => e.isIntersecting)) return;
        busy = true;
        try { await dotNet.invokeMethodAsync('OnSentinelVisible'); } finally { busy = false; }
    }, { rootMargin: '400px' });
    const watch = () => document.querySelectorAll('[data-testid=load-more]').forEach(el => io.observe(el.parentElement));
    const mo = new MutationObserver(watch);
    mo.observe(document.body, { childList: true, subtree: true });
    watch();
    return { disconnect: () => { io.disconnect(); mo.disconnect(); } };
}
