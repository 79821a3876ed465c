!note Anthropic Claude (Messages API); needs $ANTHROPIC_API_KEY.
!api https://api.anthropic.com/v1/
!wire anthropic
!>anthropic-version 2023-06-01
!>x-api-key $ANTHROPIC_API_KEY
!:model claude-sonnet-4-5
!:max_tokens 10000
