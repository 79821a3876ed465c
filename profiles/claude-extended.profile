!note Claude Opus with extended thinking, kept out of the next request; needs $ANTHROPIC_API_KEY.
!profile claude
!:model claude-opus-4-1
!:max_tokens 20000
!:thinking {"type": "enabled", "budget_tokens": 10000}
!exclude think
