!note Claude with extended thinking; the thinking is kept out of the next request.
!profile claude
!:model claude-opus-4-1
!:max_tokens 20000
!:thinking {"type": "enabled", "budget_tokens": 10000}
!exclude think
