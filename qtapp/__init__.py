"""The Qt console."""
