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
endif

" vim:set et sw=2:
