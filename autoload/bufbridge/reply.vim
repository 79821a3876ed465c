" autoload/bufbridge/reply.vim - where a reply lands, and whether it is still there
"
" The functions in this file are for internal use only; see :help bufbridge.
"
" A reply is written at its point: a Vim text property or a Neovim extmark,
" never a line number, so it moves with the text when lines are added or
" removed anywhere else. The point starts where the request was made:
"   - 'send': the end of the buffer (the end of its last line);
"   - 'marker' infill: column 1 of the cursor line; the first piece opens a
"     new line there, so the reply sits on lines of its own above it;
"   - 'cursor' infill: the cursor.
" Each piece goes in at the point, which then moves to the end of what was
" written: the point is always the END of the reply written so far.
"
" Text that the user types exactly at the point stays after the reply (the
" point has left gravity), except in 'send' mode before the first piece:
" there the point is the end of the user's message, and what is typed there
" belongs to the message, before the reply.
"
" A reply stops rather than write anywhere else (bufbridge#reply#broken):
" when the point is gone (its line was deleted; Vim drops a text property
" with its line, and Neovim's extmark is made to be deleted with it), when
" an undo went back past the last piece, or when the text just before the
" point is no longer the reply as written (an undo, or an edit inside the
" reply). Edits anywhere else, above or below, leave it streaming.

if exists('g:autoloaded_bufbridge_reply')
  finish
endif
let g:autoloaded_bufbridge_reply = 1

" The state fields used here: buf, mode, key (the Vim text property id),
" mark (the Neovim extmark id), after (where the point was last seen),
" text (the reply written so far), opened, tick and seq (b:changedtick and
" changenr() after the last piece).

" Place the point where the request is made, at state.after.
function! bufbridge#reply#start(state) abort
  call extend(a:state, {'text': '', 'opened': 0, 'tick': -1, 'seq': -1})
  call s:place(a:state, a:state.after[0], a:state.after[1])
endfunction

" The point, [line, byte column], or [] when it is gone.
function! bufbridge#reply#point(state) abort
  let found = has('nvim') ? s:extmark_pos(a:state) : s:prop_pos(a:state)
  if !empty(found)
    let a:state.after = found
  endif
  return found
endfunction

" Why the reply cannot go on in its buffer, or '' when it can. Must run with
" the reply's buffer current (changenr() knows no other buffer).
function! bufbridge#reply#broken(state) abort
  if !bufloaded(a:state.buf)
    return 'buffer ' . a:state.buf . ' was closed'
  elseif a:state.tick == getbufvar(a:state.buf, 'changedtick')
    return ''  " nothing changed since the last piece
  endif
  let reply = 'the reply in buffer ' . a:state.buf
  if changenr() < a:state.seq
    return reply . ' was undone'
  endif
  let point = bufbridge#reply#point(a:state)
  if empty(point)
    return 'the place of ' . reply . ' was deleted'
  elseif !s:ends_with_reply(a:state, point)
    return reply . ' was changed'
  endif
  return ''
endfunction

" Whether the text just before the point is the reply written so far. An
" undo can bring the point back (Vim restores a line with its properties) or
" collapse it (Neovim), so the point alone does not show that the reply is
" gone; its text does. changenr() also catches an undo that leaves text
" which happens to look the same (a piece of indentation, say).
function! s:ends_with_reply(state, point) abort
  let [lnum, col] = a:point
  let text = a:state.text
  let first = lnum - count(text, "\n")
  if first < 1
    return 0
  endif
  let lines = getbufline(a:state.buf, first, lnum)
  let lines[-1] = strpart(lines[-1], 0, col - 1)
  let have = join(lines, "\n")
  return len(have) >= len(text) && strpart(have, len(have) - len(text)) ==# text
endfunction

" Write one piece at the point; runs with the reply's buffer current.
function! bufbridge#reply#put(state, text) abort
  " The whole reply is one undo step: every piece joins the one before,
  " unless the user changed the buffer in between.
  if a:state.tick == b:changedtick
    try
      undojoin
    catch /^Vim\%((\a\+)\)\=:E790:/
    endtry
  else
    let &l:undolevels = &l:undolevels  " closes the user's undo step
  endif
  if a:state.mode ==# 'marker' && !a:state.opened
    call s:open_line(a:state)
  endif
  call s:insert(a:state, split(a:text, "\n", 1))
  let a:state.opened = 1
  let a:state.text .= a:text
  let a:state.tick = b:changedtick
  let a:state.seq = changenr()
endfunction

" Marker infill: a new empty line just above the cursor line, which moves
" down untouched; the point goes to that line.
function! s:open_line(state) abort
  let lnum = s:point(a:state)[0]
  call append(lnum - 1, '')
  call s:place(a:state, lnum, 1)
endfunction

" The lines go in at the point, which moves to their end; the text after
" the point follows the last of them, and so does a cursor in it.
function! s:insert(state, lines) abort
  let [lnum, col] = s:point(a:state)
  let last = lnum + len(a:lines) - 1
  let end = len(a:lines) == 1 ? col + len(a:lines[0]) : len(a:lines[-1]) + 1
  let cursor = [line('.'), col('.')]
  let moves = cursor[0] == lnum && (cursor[1] > col || cursor[1] == col && s:left(a:state))
  if has('nvim')
    call nvim_buf_set_text(0, lnum - 1, col - 1, lnum - 1, col - 1, a:lines)
  else
    let line = getline(lnum)
    let new = [strpart(line, 0, col - 1) . a:lines[0]] + a:lines[1:]
    let new[-1] .= strpart(line, col - 1)
    call setline(lnum, new[0])  " this drops the text properties of the line
    if len(new) > 1
      call append(lnum, new[1:])
    endif
  endif
  if moves
    call cursor(last, end + cursor[1] - col)
  elseif cursor[0] == lnum
    call cursor(cursor)  " Neovim moves a cursor at the point along
  endif
  let a:state.opened = 1
  call s:place(a:state, last, end)
endfunction

function! s:point(state) abort
  let point = bufbridge#reply#point(a:state)
  if empty(point)
    throw 'bufbridge: the place of the reply in buffer ' . a:state.buf . ' was deleted'
  endif
  return point
endfunction

" Whether text typed at the point goes after it (see the top of the file).
function! s:left(state) abort
  return a:state.mode !=# 'send' || a:state.opened
endfunction

" The mark {{{1

function! s:place(state, lnum, col) abort
  if has('nvim')
    " A new mark each time: moving one by its id keeps its old gravity.
    if has_key(a:state, 'mark')
      call nvim_buf_del_extmark(a:state.buf, s:namespace(), a:state.mark)
    endif
    let a:state.mark = nvim_buf_set_extmark(a:state.buf, s:namespace(), a:lnum - 1, a:col - 1,
          \ {'right_gravity': !s:left(a:state), 'invalidate': v:true, 'undo_restore': v:false})
  else
    call s:prop_types()
    call s:prop_remove(a:state)
    call prop_add(a:lnum, a:col, s:prop(a:state, {'length': 0}))
  endif
  let a:state.after = [a:lnum, a:col]
endfunction

" Two types of zero-width property: one that moves right when text is typed
" at it, and one that stays left of that text ('start_incl', which also
" keeps it on its line when the line is split there).
function! s:prop_types() abort
  if empty(prop_type_get('bufbridge'))
    call prop_type_add('bufbridge', {})
    call prop_type_add('bufbridge_left', {'start_incl': 1})
  endif
endfunction

" Our text property in Vim; 'both': other plugins may use the same id.
function! s:prop(state, more) abort
  return extend({'type': s:left(a:state) ? 'bufbridge_left' : 'bufbridge', 'id': a:state.key,
        \ 'both': 1, 'bufnr': a:state.buf}, a:more)
endfunction

function! s:extmark_pos(state) abort
  if !has_key(a:state, 'mark')
    return []
  endif
  let pos = nvim_buf_get_extmark_by_id(a:state.buf, s:namespace(), a:state.mark, {'details': v:true})
  return empty(pos) || get(pos[2], 'invalid', v:false) ? [] : [pos[0] + 1, pos[1] + 1]
endfunction

" Searched from where it was last seen: after the lines that were added
" above it, else before it.
function! s:prop_pos(state) abort
  if empty(prop_type_get('bufbridge'))
    return []
  endif
  let last = getbufinfo(a:state.buf)[0].linecount
  let from = s:prop(a:state, {'lnum': min([a:state.after[0], last]), 'col': 1})
  let found = prop_find(from, 'f')
  if empty(found)
    let found = prop_find(from, 'b')
  endif
  return empty(found) ? [] : [found.lnum, found.col]
endfunction

" Remove the point (the job ended or failed to start).
function! bufbridge#reply#release(state) abort
  if !bufloaded(a:state.buf)
    return
  endif
  if has('nvim')
    if has_key(a:state, 'mark')
      call nvim_buf_del_extmark(a:state.buf, s:namespace(), a:state.mark)
    endif
  elseif !empty(prop_type_get('bufbridge'))
    call s:prop_remove(a:state)
  endif
endfunction

" Our property of either type, wherever it is (an undo may bring back a copy).
function! s:prop_remove(state) abort
  for type in ['bufbridge', 'bufbridge_left']
    call prop_remove({'type': type, 'id': a:state.key, 'both': 1, 'bufnr': a:state.buf, 'all': 1})
  endfor
endfunction

function! s:namespace() abort
  return nvim_create_namespace('bufbridge')
endfunction

" vim:set et sw=2 foldmethod=marker:
