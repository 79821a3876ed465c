!note Anthropic Claude (Messages API); needs $ANTHROPIC_API_KEY.
!api "https://api.anthropic.com/v1/messages"
!>anthropic-version 2023-06-01
!>x-api-key $ANTHROPIC_API_KEY
!:model claude-opus-4-0
!:max_tokens 10000
