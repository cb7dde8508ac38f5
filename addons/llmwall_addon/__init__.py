"""The mitmproxy side of llmwall: options, hooks and flow annotations over llmwall_core."""
