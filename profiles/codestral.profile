!note Mistral Codestral fill-in-the-middle (!infill, cursor infill); needs $CODESTRAL_API_KEY.
!api https://codestral.mistral.ai/v1/
!wire codestral
!>authorization Bearer $CODESTRAL_API_KEY
!:model codestral-latest
!:max_tokens 256
