"""共治 Gongzhi — grassroots co-governance platform."""

__version__ = "0.1.0"
