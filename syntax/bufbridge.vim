" syntax/bufbridge.vim - the buffer language: roles, directives, notes,
" errors and <think> blocks. See :help bufbridge-filetype.

if exists('b:current_syntax')
  finish
endif

" Every directive but roles, notes, errors and !: / !>, as bridge/parse.py knows them.
let s:directives = 'profile\|api\|completion\|infill\|context\|begin\|end\|exclude\|prepend\|stats\|debug\|reddit!\=\|github\|gpt-oss\|wire\|heuristics'
let s:any = 'user\|assistant\|note\|error\|' . s:directives

syntax match bufbridgeEscape '^!!'
syntax match bufbridgeRole '^!\%(user\|assistant\)\%(\s.*\)\=$'
execute 'syntax match bufbridgeDirective ''^!\%(' . s:directives . '\)\%(\s\|$\)'' nextgroup=bufbridgeArgument'
syntax match bufbridgeArgument '.*$' contained
syntax match bufbridgeKey '^!:\S\+' nextgroup=bufbridgeArgument skipwhite
syntax match bufbridgeHeader '^!>\S\+' nextgroup=bufbridgeArgument skipwhite
syntax match bufbridgeNote '^!note\%(\s.*\)\=$'
" An !error block runs to the next directive line, as the filter reads it.
execute 'syntax region bufbridgeError start=''^!error\%(\s\|$\)'' end=''^\ze\%(!\%(' . s:any . '\)\%(\s\|$\)\|![:>]\S\)'' keepend'
syntax region bufbridgeThink matchgroup=bufbridgeThinkTag start='^<think>$' end='^</think>$'
" Error and <think> blocks can be long: find where they start from the top.
syntax sync fromstart

highlight default link bufbridgeEscape Special
highlight default link bufbridgeRole Statement
highlight default link bufbridgeDirective PreProc
highlight default link bufbridgeArgument String
highlight default link bufbridgeKey Identifier
highlight default link bufbridgeHeader Identifier
highlight default link bufbridgeNote Comment
highlight default link bufbridgeError Error
highlight default link bufbridgeThink Comment
highlight default link bufbridgeThinkTag Special

let b:current_syntax = 'bufbridge'
