//! A tree whose nodes hold Python objects: a value, their parent and their children, in
//! `hpy::Field`s. Parent and child refer to each other, a reference cycle that Python's garbage
//! collector can see (the class macro generates the traverse slot) and collect; each node's
//! Rust `Drop` runs when it dies.
#![forbid(unsafe_code)]

/// Trees of nodes that hold Python objects.
#[hpy::module]
mod tree {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use hpy::exceptions::ValueError;
    use hpy::{Context, Field, Handle, List, Result};

    /// How many `Node` values exist (incremented by `Node()`, decremented by `Drop`).
    static LIVE_NODES: AtomicUsize = AtomicUsize::new(0);

    /// The number of `Node`s alive: shows that dropped nodes ran their Rust `Drop`.
    #[hpy::function]
    fn live_nodes() -> usize {
        LIVE_NODES.load(Ordering::SeqCst)
    }

    /// A tree node with a name, an arbitrary Python value, a parent and children.
    #[hpy::class(subclass)]
    struct Node {
        /// The node's name.
        #[hpy(get)]
        name: String,
        value: Field,
        parent: Field,
        children: Field<List>,
    }

    impl Drop for Node {
        fn drop(&mut self) {
            LIVE_NODES.fetch_sub(1, Ordering::SeqCst);
        }
    }

    #[hpy::methods]
    impl Node {
        #[new]
        fn new(name: String) -> Result<Node> {
            if name.is_empty() {
                return Err(ValueError::new_err("a node needs a name"));
            }
            LIVE_NODES.fetch_add(1, Ordering::SeqCst);
            Ok(Node { name, value: Field::new(), parent: Field::new(), children: Field::new() })
        }

        /// The value held by the node (any Python object; None if unset).
        #[getter]
        fn value<'ctx>(slf: &Handle<'ctx, Self>, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
            let node = slf.borrow()?;
            Ok(node.value.load(slf)?.unwrap_or_else(|| ctx.none().to_owned().into_any()))
        }

        #[setter]
        fn set_value(slf: &Handle<'_, Self>, value: &Handle<'_>) -> Result<()> {
            slf.borrow()?.value.store(slf, value)
        }

        /// The parent node, or None for a root.
        #[getter]
        fn parent<'ctx>(slf: &Handle<'ctx, Self>) -> Result<Option<Handle<'ctx>>> {
            slf.borrow()?.parent.load(slf)
        }

        /// A new list of the children.
        #[getter]
        fn children<'ctx>(slf: &Handle<'ctx, Self>, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
            match slf.borrow()?.children.load(slf)? {
                Some(list) => list.call_method("copy", ()),
                None => Ok(ctx.list()?.into_any()),
            }
        }

        /// Make `child` a child of this node (and this node its parent: a reference cycle).
        fn add_child(slf: &Handle<'_, Self>, child: &Handle<'_, Node>) -> Result<()> {
            if slf.is(child) {
                return Err(ValueError::new_err("a node cannot be its own child"));
            }
            let ctx = slf.ctx();
            let me = slf.borrow()?;
            let list = match me.children.load(slf)? {
                Some(list) => list,
                None => {
                    let list = ctx.list()?;
                    me.children.store(slf, &list)?;
                    list
                }
            };
            list.append(child)?;
            let kid = child.borrow()?;
            kid.parent.store(child, slf.as_any())
        }

        /// The number of nodes in this subtree.
        fn size(slf: &Handle<'_, Self>) -> Result<usize> {
            let children = slf.borrow()?.children.load(slf)?;
            let mut n = 1;
            if let Some(list) = children {
                for i in 0..list.len()? {
                    let child = list.get_index(i)?.downcast_into::<Node>()?;
                    n += Node::size(&child)?;
                }
            }
            Ok(n)
        }

        /// Forget the parent (breaks the cycle by hand).
        fn detach(slf: &Handle<'_, Self>) -> Result<()> {
            slf.borrow()?.parent.clear(slf)
        }

        fn __len__(slf: &Handle<'_, Self>) -> Result<usize> {
            match slf.borrow()?.children.load(slf)? {
                Some(list) => list.len(),
                None => Ok(0),
            }
        }

        fn __repr__(&self) -> String {
            format!("Node({:?})", self.name)
        }
    }
}
