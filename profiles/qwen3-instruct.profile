!note Qwen3 Instruct 2507 (recommended sampling).
!:temperature 0.7
!:min_p 0.0
!:top_p 0.8
!:top_k 20
!:max_tokens 16384
