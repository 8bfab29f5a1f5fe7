// Paste an image from the clipboard into the picker's <input type="file">: the same path as choosing a file.
export function attachPaste(input) {
    const onPaste = (event) => {
        const files = event.clipboardData ? Array.from(event.clipboardData.files) : [];
        const image = files.find(f => f.type.startsWith("image/"));
        if (!image) return;
        event.preventDefault();
        const transfer = new DataTransfer();
        transfer.items.add(image);
        input.files = transfer.files;
        input.dispatchEvent(new Event("change", { bubbles: true }));
    };
    document.addEventListener("paste", onPaste);
    return { dispose: () => document.removeEventListener("paste", onPaste) };
}
