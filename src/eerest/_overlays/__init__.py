"""Hand-written overlays bound to generated methods in codegen/config.yaml."""
