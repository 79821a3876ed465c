!note Hugging Face Inference API; needs $HF_TOKEN.
!api https://api-inference.huggingface.co/models/{model}/v1
!>authorization Bearer $HF_TOKEN
!>x-use-cache false
!:model meta-llama/Llama-3.3-70B-Instruct
