"""Report typesetting: the typst templates (human and veterinary) and the renderer."""
