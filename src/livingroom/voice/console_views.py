"""Staff console pages of residents' voice (thin: parse, call a service or selector, render)."""
