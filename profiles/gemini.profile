!note Google Gemini (native streamGenerateContent, thoughts shown); needs $GEMINI_API_KEY.
!api https://generativelanguage.googleapis.com/v1beta/
!wire gemini
!>x-goog-api-key $GEMINI_API_KEY
!:model gemini-2.5-pro
!:max_tokens 10000
!:generationConfig {"thinkingConfig": {"includeThoughts": true}}
!exclude think
