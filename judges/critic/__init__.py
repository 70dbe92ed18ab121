"""An LLM critic that judges reasoning steps and rates summaries through any
OpenAI-compatible endpoint (OpenAI, Azure, vLLM, Ollama, llama.cpp server)."""
