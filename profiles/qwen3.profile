/no_think
!note Qwen3 without thinking (recommended sampling).
!:temperature 0.7
!:min_p 0.0
!:top_p 0.8
!:top_k 20
!exclude think
