" bufbridge.vim - stream a language model's reply into the buffer
" Maintainer:   bufbridge contributors
" License:      Unlicense
" Help:         :help bufbridge

if exists('g:loaded_bufbridge') || &compatible
  finish
endif
if has('nvim') ? !has('nvim-0.11') : (v:version < 900 || !has('job') || !has('textprop'))
  finish
endif
let g:loaded_bufbridge = 1

command! -bar -bang BufBridge exe bufbridge#send(<bang>0)
command! -bar BufBridgeInfill exe bufbridge#infill()
command! -bar BufBridgeStop   exe bufbridge#stop()
command! -bar BufBridgeRestart exe bufbridge#restart()

nnoremap <silent> <Plug>(bufbridge-send)   <Cmd>BufBridge<CR>
nnoremap <silent> <Plug>(bufbridge-infill) <Cmd>BufBridgeInfill<CR>
nnoremap <silent> <Plug>(bufbridge-stop)   <Cmd>BufBridgeStop<CR>
inoremap <silent> <Plug>(bufbridge-infill) <Cmd>BufBridgeInfill<CR>
inoremap <silent> <Plug>(bufbridge-stop)   <Cmd>BufBridgeStop<CR>

" Suggestions as you type (autoload/bufbridge/suggest.vim): each accept map
" does nothing when no suggestion shows; the default keys do what they did
" before then.
inoremap <silent><expr> <Plug>(bufbridge-accept)      bufbridge#accept('all')
inoremap <silent><expr> <Plug>(bufbridge-accept-line) bufbridge#accept('line')
inoremap <silent><expr> <Plug>(bufbridge-accept-word) bufbridge#accept('word')
inoremap <silent> <Plug>(bufbridge-suggest) <Cmd>call bufbridge#suggest#now()<CR>
inoremap <silent> <Plug>(bufbridge-dismiss) <Cmd>call bufbridge#suggest#dismiss()<CR>

highlight default link BufBridgeSuggestion Comment
highlight default link BufBridgeSuggestionInfo NonText

augroup bufbridge_suggest
  autocmd!
  autocmd InsertEnter,TextChangedI,CursorMovedI * call bufbridge#suggest#changed()
  autocmd InsertLeavePre,BufLeave,WinLeave,CompleteChanged * call bufbridge#suggest#dismiss()
  autocmd TextYankPost * call bufbridge#ring#yanked()
  autocmd InsertLeave,BufLeave,BufWritePost * call bufbridge#ring#around_cursor()
augroup END

" Default keys: each one only when the user mapped neither the key nor the action.
if !get(g:, 'bufbridge_no_maps')
  if !hasmapto('<Plug>(bufbridge-send)', 'n') && maparg('<Leader>bb', 'n') ==# ''
    nmap <Leader>bb <Plug>(bufbridge-send)
  endif
  if !hasmapto('<Plug>(bufbridge-infill)', 'n') && maparg('<Leader>bi', 'n') ==# ''
    nmap <Leader>bi <Plug>(bufbridge-infill)
  endif
  if !hasmapto('<Plug>(bufbridge-stop)', 'n') && maparg('<Leader>bx', 'n') ==# ''
    nmap <Leader>bx <Plug>(bufbridge-stop)
  endif
  if !hasmapto('<Plug>(bufbridge-infill)', 'i') && maparg('<C-G>i', 'i') ==# ''
    imap <C-G>i <Plug>(bufbridge-infill)
  endif
  if !hasmapto('<Plug>(bufbridge-suggest)', 'i') && maparg('<C-G>s', 'i') ==# ''
    imap <C-G>s <Plug>(bufbridge-suggest)
  endif
  call bufbridge#keys#accept('<Tab>', 'tab', 'all')
  call bufbridge#keys#accept('<S-Tab>', 's-tab', 'line')
  call bufbridge#keys#accept('<C-Right>', 'c-right', 'word')
endif

" vim:set et sw=2:
