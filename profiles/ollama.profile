!note Ollama's native API on its default port (/api/chat, /api/generate); pick the model with !:model.
!api http://localhost:11434/
!wire ollama
!:model qwen3
!exclude think
