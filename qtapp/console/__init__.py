"""The embeddable console widget and the parts it is composed of."""
