" autoload/bufbridge.vim - run the bufbridge filter on a buffer, stream its reply in
"
" The functions in this file are for internal use only; the interface is the
" commands and <Plug> maps of plugin/bufbridge.vim, see :help bufbridge.
"
" A reply is written by one of two carriers, into the same place and the same
" way (s:write):
"   - a plain job: the buffer goes to the filter's stdin, its stdout comes
"     back in pieces (Vim always; Neovim when the filter's Python lacks pynvim);
"   - in Neovim, the filter started as an RPC job (`bufbridge nvim`), which
"     reads the buffer through the API and calls bufbridge#host_write().

if exists('g:autoloaded_bufbridge')
  finish
endif
let g:autoloaded_bufbridge = 1

let s:jobs = {}        " Neovim channel id -> job state, for the RPC host
let s:next_key = 0     " the last job state key; keys are also Vim text property ids
let s:no_pynvim = 0    " the filter's Python has no pynvim: use plain jobs
let s:NO_PYNVIM = 3    " exit status of `bufbridge nvim` when pynvim is missing

" Commands {{{1

function! bufbridge#send() abort
  return s:start(0)
endfunction

function! bufbridge#infill() abort
  return s:start(line('.'))
endfunction

function! bufbridge#stop() abort
  let state = s:running(bufnr(''))
  if empty(state)
    return 'echomsg ' . string('bufbridge: nothing is streaming into this buffer')
  endif
  let state.stopped = 1
  call s:kill(state)
  return ''
endfunction

" Start {{{1

" The job state lives in b:bufbridge_job while the reply streams.
function! s:running(buf) abort
  let vars = getbufvar(a:buf, '')
  return type(vars) == v:t_dict ? get(vars, 'bufbridge_job', {}) : {}
endfunction

" line: 0 to append the reply to the buffer, else the cursor line for infill.
function! s:start(line) abort
  let buf = bufnr('')
  if !empty(s:running(buf))
    return s:fail('a reply is already streaming into this buffer; :BufBridgeStop stops it')
  endif
  try
    let state = s:new_state(buf, a:line, s:command())
    call s:mark(state)
    let started = 0
    try
      if has('nvim') && !s:no_pynvim
        call s:start_host(state)
      else
        call s:start_job(state)
      endif
      let started = 1
    finally
      if !started
        call s:unmark(state)
      endif
    endtry
  catch /^bufbridge:/
    return 'echoerr ' . string(v:exception)
  endtry
  call setbufvar(buf, 'bufbridge_job', state)
  return ''
endfunction

function! s:new_state(buf, line, cmd) abort
  let s:next_key += 1
  return {'key': s:next_key, 'buf': a:buf, 'line': a:line, 'cmd': a:cmd,
        \ 'id': 0, 'tick': -1, 'opened': 0, 'after': a:line, 'written': 0,
        \ 'stopped': 0, 'gone': 0, 'exited': 0, 'closed': 0, 'status': 0,
        \ 'stderr': '', 'input': ''}
endfunction

function! s:command() abort
  let cmd = get(g:, 'bufbridge_command', ['bufbridge'])
  let cmd = type(cmd) == v:t_list ? copy(cmd) : split(cmd)
  if get(cmd, 0, '') =~# '^\~[/\\]'
    let cmd[0] = expand(cmd[0])
  endif
  if empty(cmd) || !executable(cmd[0])
    throw 'bufbridge: cannot run ' . string(get(cmd, 0, '')) . ': no such executable; '
          \ . 'install bufbridge or set g:bufbridge_command (:help g:bufbridge_command)'
  endif
  return cmd
endfunction

" What the filter reads: the buffer, and for infill a line !infill just above
" the cursor line (the text above it is the prefix, the rest the suffix).
function! s:input(state) abort
  let lines = getbufline(a:state.buf, 1, '$')
  if a:state.line
    call insert(lines, '!infill', s:mark_line(a:state) - 1)
  endif
  return lines
endfunction

" A plain job: the buffer on stdin, the reply from stdout as it arrives.
" Neither editor blocks on a large buffer: Neovim queues what the pipe cannot
" take yet, Vim reads it from a file.
function! s:start_job(state) abort
  if has('nvim')
    let a:state.id = jobstart(a:state.cmd, {
          \ 'on_stdout': function('s:nvim_out', [a:state]),
          \ 'on_stderr': function('s:nvim_err', [a:state]),
          \ 'on_exit': function('s:nvim_exit', [a:state])})
    if a:state.id <= 0
      throw 'bufbridge: cannot start ' . join(a:state.cmd)
    endif
    call chansend(a:state.id, s:input(a:state) + [''])
    call chanclose(a:state.id, 'stdin')
    return
  endif
  let a:state.input = tempname()
  call writefile(s:input(a:state), a:state.input)
  let a:state.job = job_start(a:state.cmd, {
        \ 'in_io': 'file', 'in_name': a:state.input,
        \ 'out_mode': 'raw', 'err_mode': 'raw',
        \ 'out_cb': function('s:vim_out', [a:state]),
        \ 'err_cb': function('s:vim_err', [a:state]),
        \ 'exit_cb': function('s:vim_exit', [a:state]),
        \ 'close_cb': function('s:vim_close', [a:state])})
  if job_status(a:state.job) ==# 'fail'
    call delete(a:state.input)
    throw 'bufbridge: cannot start ' . join(a:state.cmd)
  endif
endfunction

" Neovim: `bufbridge nvim` attaches to us over its stdio and asks
" bufbridge#host_start() what to read.
function! s:start_host(state) abort
  let a:state.host = 1
  let a:state.id = jobstart(a:state.cmd + ['nvim'], {'rpc': v:true,
        \ 'on_stderr': function('s:nvim_err', [a:state]),
        \ 'on_exit': function('s:host_exit', [a:state])})
  if a:state.id <= 0
    throw 'bufbridge: cannot start ' . join(a:state.cmd)
  endif
  let s:jobs[a:state.id] = a:state
endfunction

" Job callbacks {{{1

function! s:vim_out(state, channel, text) abort
  call s:write(a:state, a:text)
endfunction

function! s:vim_err(state, channel, text) abort
  let a:state.stderr .= a:text
endfunction

" Vim may report the exit before the last output: finish when both are in.
function! s:vim_exit(state, job, status) abort
  let a:state.exited = 1
  let a:state.status = a:status
  if a:state.closed
    call s:finish(a:state)
  endif
endfunction

function! s:vim_close(state, channel) abort
  let a:state.closed = 1
  if a:state.exited
    call s:finish(a:state)
  endif
endfunction

" Neovim splits output into a list at newlines; joining restores the bytes.
function! s:nvim_out(state, id, data, event) abort
  let text = join(a:data, "\n")
  if text !=# ''
    call s:write(a:state, text)
  endif
endfunction

function! s:nvim_err(state, id, data, event) abort
  let a:state.stderr .= join(a:data, "\n")
endfunction

function! s:nvim_exit(state, id, status, event) abort
  let a:state.status = a:status
  call s:finish(a:state)
endfunction

function! s:host_exit(state, id, status, event) abort
  if has_key(s:jobs, a:id)
    call remove(s:jobs, a:id)
  endif
  if a:status == s:NO_PYNVIM && !a:state.written && !a:state.stopped
    let s:no_pynvim = 1
    call s:warn('pynvim is not installed for ' . a:state.cmd[0] . ', so replies stream through a plain job')
    let a:state.stderr = ''
    try
      return s:start_job(a:state)
    catch /^bufbridge:/
      let a:state.stderr = v:exception
    endtry
  endif
  call s:nvim_exit(a:state, a:id, a:status, a:event)
endfunction

" The RPC host's side of the conversation (bridge/nvim_host.py) {{{1

" What the host started on `channel` should read: the buffer, and the line
" to put !infill above (0: no infill).
function! bufbridge#host_start(channel) abort
  let state = get(s:jobs, a:channel, {})
  if empty(state)
    return {}
  endif
  return {'buffer': state.buf, 'line': state.line ? s:mark_line(state) : 0}
endfunction

" A piece of the reply from the host; 0 when it cannot be written (stop).
function! bufbridge#host_write(channel, text) abort
  let state = get(s:jobs, a:channel, {})
  return empty(state) ? 0 : s:write(state, a:text)
endfunction

" Writing the reply {{{1

function! s:write(state, text) abort
  if a:state.gone
    return 0
  endif
  try
    if !bufloaded(a:state.buf)
      throw 'the buffer was closed'
    endif
    if a:text ==# ''  " the host asks whether the buffer is still there
      return 1
    endif
    call s:in_buffer(a:state.buf, function('s:put', [a:state, a:text]))
  catch
    let a:state.gone = 1
    call s:kill(a:state)
    call s:warn('stopped: cannot write the reply into buffer ' . a:state.buf . ': '
          \ . substitute(v:exception, '^Vim\%((\a\+)\)\=:', '', ''))
    return 0
  endtry
  let a:state.written = 1
  return 1
endfunction

" Undo commands act on the current buffer only, so the reply is written with
" its buffer made current: directly, in a window that shows it, or (Vim) in a
" hidden popup window, (Neovim) through nvim_buf_call().
function! s:in_buffer(buf, Fn) abort
  if bufnr('') == a:buf
    return a:Fn()
  endif
  let s:Deferred = a:Fn
  try
    if has('nvim')
      call luaeval('vim.api.nvim_buf_call(_A, function() vim.fn["bufbridge#deferred"]() end)', a:buf)
      return
    endif
    let win = get(win_findbuf(a:buf), 0, 0)
    let popup = win ? 0 : popup_create(a:buf, {'hidden': 1})
    try
      call win_execute(win ? win : popup, 'call bufbridge#deferred()')
    finally
      if popup
        call popup_close(popup)
      endif
    endtry
  finally
    unlet! s:Deferred
  endtry
endfunction

function! bufbridge#deferred() abort
  return s:Deferred()
endfunction

" Add one piece of the reply; runs with the reply's buffer current.
function! s:put(state, text) abort
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
  let lines = split(a:text, "\n", 1)
  let lnum = s:target(a:state)
  call setline(lnum, getline(lnum) . lines[0])
  if len(lines) > 1
    call append(lnum, lines[1:])
  endif
  let a:state.tick = b:changedtick
endfunction

" The line the reply continues: the last line of the buffer (the reply
" starts with a blank line and !assistant, so it reads as a new message), or
" for infill the line above the mark.
function! s:target(state) abort
  if !a:state.line
    return line('$')
  endif
  if !a:state.opened
    call append(s:mark_line(a:state) - 1, '')
    let a:state.opened = 1
  endif
  return s:mark_line(a:state) - 1
endfunction

" The infill mark: the cursor line, where the suffix starts. It follows the
" line when lines are added or deleted above it. {{{1

function! s:mark(state) abort
  if !a:state.line
    return
  endif
  if has('nvim')
    let a:state.mark = nvim_buf_set_extmark(a:state.buf, s:namespace(), a:state.line - 1, 0, {})
    return
  endif
  if empty(prop_type_get('bufbridge'))
    call prop_type_add('bufbridge', {})
  endif
  call prop_add(a:state.line, 1, {'type': 'bufbridge', 'id': a:state.key,
        \ 'bufnr': a:state.buf, 'length': 0})
endfunction

" The mark's line; if the user deleted that line, where it last was.
function! s:mark_line(state) abort
  if has('nvim')
    let pos = nvim_buf_get_extmark_by_id(a:state.buf, s:namespace(), a:state.mark, {})
    let lnum = empty(pos) ? 0 : pos[0] + 1
  else
    let lnum = get(prop_find({'type': 'bufbridge', 'id': a:state.key,
          \ 'bufnr': a:state.buf, 'lnum': 1, 'col': 1}, 'f'), 'lnum', 0)
  endif
  if lnum
    let a:state.after = lnum
  endif
  return min([a:state.after, getbufinfo(a:state.buf)[0].linecount + 1])
endfunction

function! s:unmark(state) abort
  if !a:state.line || !bufloaded(a:state.buf)
    return
  endif
  if has('nvim')
    call nvim_buf_del_extmark(a:state.buf, s:namespace(), a:state.mark)
  else
    call prop_remove({'type': 'bufbridge', 'id': a:state.key, 'bufnr': a:state.buf, 'all': 1})
  endif
endfunction

function! s:namespace() abort
  return nvim_create_namespace('bufbridge')
endfunction

" Stop and finish {{{1

function! s:kill(state) abort
  if has_key(a:state, 'job')
    call job_stop(a:state.job)
  elseif a:state.id > 0
    call jobstop(a:state.id)
  endif
endfunction

function! s:finish(state) abort
  call s:unmark(a:state)
  if !empty(a:state.input)
    call delete(a:state.input)
  endif
  if s:running(a:state.buf) is a:state
    call remove(getbufvar(a:state.buf, ''), 'bufbridge_job')
  endif
  for line in split(a:state.stderr, "\n")
    call s:say(line =~# '^bufbridge:' ? line : 'bufbridge: ' . line)
  endfor
  if a:state.stopped
    call s:say('bufbridge: stopped')
  elseif a:state.status != 0 && !a:state.gone
    call s:warn('the filter exited with status ' . a:state.status
          \ . (a:state.written ? '; the !error block in the buffer says why' : ''))
  endif
endfunction

" Messages {{{1

function! s:fail(message) abort
  return 'echoerr ' . string('bufbridge: ' . a:message)
endfunction

function! s:say(message) abort
  echomsg a:message
endfunction

function! s:warn(message) abort
  echohl WarningMsg
  echomsg 'bufbridge: ' . a:message
  echohl None
endfunction

" vim:set et sw=2 foldmethod=marker:
