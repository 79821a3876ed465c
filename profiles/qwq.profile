!note QwQ-32B sampling.
!:top_k 40
!:top_p 0.95
!:min_p 0.02
!:temperature 0.6
!:repeat_penalty 1.0
!:dry_multiplier 0.5
!:samplers ["top_k","top_p","min_p","temperature","dry","typ_p","xtc"]
!:max_tokens 20000
