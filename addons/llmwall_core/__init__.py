"""llmwall's pure core: provider formats, rules, scanning and stream guarding. Imports no mitmproxy."""
